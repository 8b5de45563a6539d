"""What every audience's pages share: the settings (read once from the environment),
authentication guards, the request's dependencies (database session, campaign, settings,
profile, now), the database's clock, error pages, sessions and their store, security headers,
and the app's secrets and signatures. No domain rules live here."""
