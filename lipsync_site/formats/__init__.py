"""Date formats per language (FORMAT_MODULE_PATH): the site's short forms, which Django's
own locale formats would spell differently ("11/30/2026 4 p.m." for English)."""
