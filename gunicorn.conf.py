# Read by gunicorn from the working directory (its default config file). Command-line
# options in the Procfile still apply; this only swaps the logger so the access log never
# prints a provider's signed input link whole.
logger_class = "lipsync_site.gunicorn_logging.RedactingLogger"
