"""The static files' storage: WhiteNoise's compressed manifest storage (content-hashed names,
gzip and brotli copies made once by `collectstatic`), without following source-map comments.

The vendored Bootstrap files (static/vendor, copied unmodified) end with
`sourceMappingURL=bootstrap.min.css.map`, and the maps are not shipped; Django's manifest
storage would stop `collectstatic` on the missing file. The comments are left as they are (a
browser asks for the map only when its developer tools are open, and gets a 404).
"""

from __future__ import annotations

from whitenoise.storage import CompressedManifestStaticFilesStorage  # type: ignore[import-untyped]


class HashedStaticStorage(CompressedManifestStaticFilesStorage):
    # CSS url() and @import references are still rewritten to the hashed names.
    patterns = tuple(
        (glob, tuple(p for p in rules if "sourceMappingURL" not in str(p)))
        for glob, rules in CompressedManifestStaticFilesStorage.patterns
    )
