"""The wheel's build step (the rest of the packaging is in pyproject.toml).

The templates live at the top of the repository (``templates/``) and the app finds them
there in a checkout; a wheel carries them inside the package, as ``tracker/templates/``, so
an installed tracker needs no checkout (:data:`tracker.config.TEMPLATES`). The front-end
assets under ``tracker/static/`` are built by ``make install`` (scripts/build-assets.sh) and
are not in git: a wheel built without them would serve pages with no styles, so the build
refuses. An editable install (``pip install -e .``, which ``make install`` runs before it
builds the assets) reads both from the checkout and is left alone.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py
from setuptools.errors import FileError

HERE = Path(__file__).resolve().parent
TEMPLATES = HERE / "templates"
BUILT_ASSETS = ("css/app.css", "js/app.js", "govuk/govuk-frontend.min.js",
                "govuk/assets/manifest.json")
"""What scripts/build-assets.sh makes under tracker/static/, and every page asks for."""


def missing_assets(static: Path) -> list[str]:
    return [name for name in BUILT_ASSETS if not (static / name).is_file()]


class BuildWithTemplates(build_py):
    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):
            return
        missing = missing_assets(HERE / "tracker" / "static")
        if missing:
            raise FileError(
                "the front-end assets are not built (missing tracker/static/"
                + ", tracker/static/".join(missing)
                + "): run `make install` (or scripts/build-assets.sh) before building a wheel")
        if not (TEMPLATES / "layout.html").is_file():
            raise FileError(f"the templates are missing: {TEMPLATES} has no layout.html")
        target = Path(self.build_lib) / "tracker" / "templates"
        shutil.rmtree(target, ignore_errors=True)  # no template left over from a past build
        shutil.copytree(TEMPLATES, target, ignore=shutil.ignore_patterns("README.md"))


setup(cmdclass={"build_py": BuildWithTemplates})
