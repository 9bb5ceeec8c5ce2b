"""The dashboard at ``/_mock/ui``: requests, the world, faults, retries and webhooks.

The pages are server-rendered shells (Jinja2): layout, navigation and forms, and no data.
Their scripts fill them from the control API's own JSON routes and poll those for live
updates, so everything the dashboard shows can be scripted too, and a control token (when one
is set) guards the data exactly as it guards any other control call.
"""

from mockserver.ui.pages import PAGES, is_shell, ui_routes

__all__ = ["PAGES", "is_shell", "ui_routes"]
