"""The parts of the build that pyproject.toml cannot say: the C extension, and
the shipped model (models/ in the repository) installed as lineclf/models."""

from setuptools import Extension, find_packages, setup

setup(
    package_dir={"": "src", "lineclf.models": "models"},
    packages=[*find_packages("src"), "lineclf.models"],
    package_data={
        "lineclf": ["resources/cues/*.txt", "review/static/*"],
        "lineclf.models": ["default.joblib", "default.joblib.sha256", "MODEL_CARD.md"],
    },
    ext_modules=[Extension("lineclf._native", sources=["src/lineclf/_native.c"], extra_compile_args=["-O3"])],
)
