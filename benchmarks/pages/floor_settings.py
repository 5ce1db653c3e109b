"""POD's settings with the benchmark's two floor pages added to the URLconf
(benchmarks/pages/floor_urls.py). Everything else, middleware included, is POD's own."""

from pod.settings import *  # noqa: F403

ROOT_URLCONF = "benchmarks.pages.floor_urls"
