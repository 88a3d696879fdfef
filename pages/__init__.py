"""NiceGUI pages: thin functions that read arguments, call services and render components."""


def register_pages() -> None:
    """Import the page modules, whose decorators register the routes."""
    from pages import home  # noqa: F401
