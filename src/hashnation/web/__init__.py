"""Web layer: the FastAPI application that serves the public pages and their data.

Pages are plain HTML written by the pillars' own report code (Plotly offline,
no third-party assets fetched at run time); :func:`~hashnation.web.app.create_app`
assembles the routers of each pillar.
"""
