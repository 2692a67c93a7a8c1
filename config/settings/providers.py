"""Where Relay finds Salesforce, Microsoft and Google.

Every default is the real service. The sandbox (`manage.py sandbox`, the tests, the demo)
points these at its emulators on 127.0.0.1 and sets the CA bundles to its throw-away CA.
An empty CA bundle means the system's trust store.
"""

import environ

env = environ.Env()

SALESFORCE_CLIENT_ID = env("SALESFORCE_CLIENT_ID", default="")
SALESFORCE_CLIENT_SECRET = env("SALESFORCE_CLIENT_SECRET", default="")
SALESFORCE_LOGIN_URL = env("SALESFORCE_LOGIN_URL", default="https://login.salesforce.com")
SALESFORCE_SANDBOX_LOGIN_URL = env(
    "SALESFORCE_SANDBOX_LOGIN_URL", default="https://test.salesforce.com"
)
SALESFORCE_API_VERSION = env("SALESFORCE_API_VERSION", default="59.0")
# sObject Collections calls (200 records each) one session sends at once. Salesforce caps
# only requests running 20 s or longer (25 per org, 5 in a Developer Edition), which a
# customer's triggers can make a 200-record write; the org's other users share that cap.
# Rows a write locks (a contact's Account) may be contended: syncengine.salesforce.writes.
SALESFORCE_WRITE_CONCURRENCY = env.int("SALESFORCE_WRITE_CONCURRENCY", default=3)
SALESFORCE_CA_BUNDLE = env("SALESFORCE_CA_BUNDLE", default="")

MICROSOFT_CLIENT_ID = env("MICROSOFT_CLIENT_ID", default="")
MICROSOFT_CLIENT_SECRET = env("MICROSOFT_CLIENT_SECRET", default="")
MICROSOFT_TENANT = env("MICROSOFT_TENANT", default="common")
MICROSOFT_LOGIN_URL = env("MICROSOFT_LOGIN_URL", default="https://login.microsoftonline.com")
MICROSOFT_GRAPH_URL = env("MICROSOFT_GRAPH_URL", default="https://graph.microsoft.com")
MICROSOFT_CA_BUNDLE = env("MICROSOFT_CA_BUNDLE", default="")
MICROSOFT_SCOPES = env.list(
    "MICROSOFT_SCOPES",
    default=[
        "offline_access",
        "User.Read",
        "Contacts.ReadWrite",
        "Calendars.ReadWrite",
        "Tasks.ReadWrite",
        "Mail.ReadWrite",
        "MailboxSettings.ReadWrite",
    ],
)

GOOGLE_CLIENT_ID = env("GOOGLE_CLIENT_ID", default="")
GOOGLE_CLIENT_SECRET = env("GOOGLE_CLIENT_SECRET", default="")
GOOGLE_AUTH_URL = env("GOOGLE_AUTH_URL", default="https://accounts.google.com/o/oauth2/v2/auth")
GOOGLE_TOKEN_URL = env("GOOGLE_TOKEN_URL", default="https://oauth2.googleapis.com/token")
GOOGLE_REVOKE_URL = env("GOOGLE_REVOKE_URL", default="https://oauth2.googleapis.com/revoke")
GOOGLE_USERINFO_URL = env(
    "GOOGLE_USERINFO_URL", default="https://openidconnect.googleapis.com/v1/userinfo"
)
# One base URL for every Google API (the sandbox serves them all on one host). Empty:
# each API's own real root from its discovery document.
GOOGLE_API_BASE_URL = env("GOOGLE_API_BASE_URL", default="")
GOOGLE_CA_BUNDLE = env("GOOGLE_CA_BUNDLE", default="")
GOOGLE_SCOPES = env.list(
    "GOOGLE_SCOPES",
    default=[
        "openid",
        "email",
        "https://www.googleapis.com/auth/contacts",
        "https://www.googleapis.com/auth/calendar",
        "https://www.googleapis.com/auth/tasks",
        "https://www.googleapis.com/auth/gmail.modify",
    ],
)

# Network timeouts for every provider call, in seconds (connect, read).
PROVIDER_HTTP_TIMEOUT = env.float("PROVIDER_HTTP_TIMEOUT", default=30.0)
# Requests one worker process has in flight to one Exchange server at most (exchangelib's
# session pool, one connection each; exchangelib's own default is 1, which makes a worker's
# threads take turns). With impersonation Exchange charges its EWS concurrency budget
# (EwsMaxConcurrency, 27 by default) to each impersonated mailbox, not to the service
# account, and each thread works on its own mailbox: as many as the worker's threads.
EXCHANGE_MAX_CONNECTIONS = env.int("EXCHANGE_MAX_CONNECTIONS", default=8)
# Items per EWS CreateItem / UpdateItem / DeleteItem call (Exchange's documented batch
# guidance: 100; a smaller batch costs more calls).
EXCHANGE_WRITE_CHUNK = env.int("EXCHANGE_WRITE_CHUNK", default=100)
# CreateItem calls one session has in flight to one mailbox at once. Exchange's throttling
# policy allows each mailbox EWSMaxConcurrency concurrent EWS requests (10 in Exchange
# 2010's default policy, the lowest; 27 later — sandbox/FIDELITY.md), shared with the
# user's own EWS clients (Outlook for Mac, mobile apps); beyond it a request fails with
# ErrorExceededConnectionCount. 6 leaves 4 of the lowest budget to them, and stays below
# EXCHANGE_MAX_CONNECTIONS (the worker's pool, which caps it anyway).
EXCHANGE_WRITE_CONCURRENCY = env.int("EXCHANGE_WRITE_CONCURRENCY", default=6)
