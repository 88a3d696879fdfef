"""The host's own calendars: connections (Google, ICS feeds), busy times with a cache, and what happens when a
provider cannot be reached (the affected times are not offered, and the pages say why)."""
