"""Talking to Salesforce, Microsoft and Google: OAuth grants and ready-made API clients.

Each provider module offers `authorize_url`, `exchange_code`, `revoke` and a client
builder that refreshes an expired access token once, stores the new one encrypted on the
`Connection`, and turns a refused refresh into `ReconnectRequired`.
"""
