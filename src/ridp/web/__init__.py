"""The web app: Django views (templates + htmx), the JSON API, background tasks.

A thin shell over :mod:`ridp.workspace` and the core: every view and API
operation parses input, calls one workspace function (which goes through
:mod:`ridp.workspace.access`) and renders the result.
"""
