"""rcm_common: the foundation every RCM service stands on.

Event contracts and their envelope, messaging with retries and a dead-letter topic, the transactional
outbox and inbox, the unit of work, settings, auth, the audit log, telemetry and HTTP helpers.
"""
