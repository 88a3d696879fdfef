"""The host's own calendars. `providers` puts Google, Microsoft 365, CalDAV (`caldav`, over the guarded `dav_http`)
and ICS feeds behind one `CalendarProvider` Protocol (a registry keyed by the connection's provider); `busy` caches
their busy times; `events` keeps each booking's event in step through the writers; `status` records what a provider
last answered and asks the host to reconnect; `tokens` renews and stores account tokens; `connections` adds,
chooses and removes them. When a provider cannot be reached, the affected times are not offered and the pages say
why."""
