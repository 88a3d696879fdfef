"""NiceGUI pages: thin functions that read arguments, call services and render components."""
from pages import account, auth, home, manage, public


def register_pages() -> None:
    """Register every route (again after a test reset); the catch-all `/{username}` paths come last."""
    for module in (home, auth, account, manage, public):
        module.register()
