"""Static files as deployments collect them: hashed names (cached for a year), gzip and Brotli
copies (whitenoise), and ES modules' imports rewritten to the hashed names too, so that the web
player's modules (musicapp/static/player/) of one release never load another release's."""

from whitenoise.storage import CompressedManifestStaticFilesStorage  # type: ignore[import-untyped]


class StaticStorage(CompressedManifestStaticFilesStorage):
    support_js_module_import_aggregation = True
