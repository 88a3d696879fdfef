"""The application's core: settings, database, models, errors, crypto, auth plumbing, events, jobs, API, CLI."""

import warnings

from authlib.deprecate import AuthlibDeprecationWarning  # importing it installs authlib's own 'always' filter

# authlib 1.x announces its move to the `httpx2` package whenever it is imported; the pinned stack uses httpx.
warnings.filterwarnings('ignore', message='The httpx module is deprecated', category=AuthlibDeprecationWarning)
