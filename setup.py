"""Packages are found, not listed, so a new subpackage cannot be left out of the wheel.

``gpu/`` and ``theory/`` sit at the top of the repository but install as
``itersolve.gpu`` and ``itersolve.theory`` (the layout keeps them beside the package they
mirror); pyproject.toml holds everything else.
"""

from setuptools import find_packages, setup

MAPPED = {"itersolve.gpu": "gpu", "itersolve.theory": "theory"}

packages = find_packages(include=["itersolve", "itersolve.*"])
for package, folder in MAPPED.items():
    packages += [package, *(f"{package}.{sub}" for sub in find_packages(folder))]

setup(packages=packages, package_dir=MAPPED)
