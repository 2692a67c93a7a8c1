"""HTTPS emulators of the Salesforce REST API, Microsoft Graph and the Google APIs.

They serve the tests, the benchmarks and the `make run` demo. The engine talks to them
through the real client libraries, unchanged, over real HTTP(S) on 127.0.0.1.
"""
