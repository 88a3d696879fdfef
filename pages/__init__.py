"""NiceGUI pages: thin functions that read arguments, call services and render components."""

from pages import (
    account,
    auth,
    availability,
    dashboard,
    event_types,
    home,
    integrations,
    manage,
    public,
    settings,
    team_public,
    teams,
)


def register_pages() -> None:
    """Register every route (again after a test reset); the catch-all `/{username}` paths come last."""
    for module in (
        home,
        auth,
        account,
        dashboard,
        event_types,
        availability,
        integrations,
        settings,
        manage,
        teams,
        team_public,
        public,
    ):
        module.register()
