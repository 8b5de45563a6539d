"""What every audience's pages share: authentication guards, the request's dependencies
(database session, campaign), the clock, error pages, sessions and their store, security
headers, and the app's secrets and signatures. No domain rules live here."""
