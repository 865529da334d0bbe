// MathJax 3 configuration for pymdownx.arithmatex (generic mode), as mkdocs-material
// documents it; MathJax itself is served from javascripts/mathjax/ (docs/mathjax_hook.py).
window.MathJax = {
  tex: {
    inlineMath: [["\\(", "\\)"]],
    displayMath: [["\\[", "\\]"]],
    processEscapes: true,
    processEnvironments: true,
  },
  options: {
    ignoreHtmlClass: ".*|",
    processHtmlClass: "arithmatex",
  },
};

// MathJax typesets the page it is loaded with. Should mkdocs-material swap pages in place
// (instant navigation), typeset the new content too. (Material's recipe also clears the
// output cache; with MathJax 3.2 that drops the glyph styles and the formulas go blank.)
let firstPage = true;
document$.subscribe(() => {
  if (firstPage) {
    firstPage = false;
    return;
  }
  MathJax.startup.promise = MathJax.startup.promise.then(() => {
    MathJax.typesetClear();
    MathJax.texReset();
    return MathJax.typesetPromise();
  });
});
