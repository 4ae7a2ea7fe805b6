"""Backends: one module per tool, each with a `BACKEND` implementing `base.Backend`; the
request they translate, the flags they share, the catalog of names, choice and capabilities.
"""
