"""Everything a connection is made of, as plain services for the pages to call: creating one, its sync
settings, connecting Xero and Dynamics (OAuth round trips), installing into Dynamics and the two lights.

Services take their collaborators as arguments and return results the pages render; they never build
HTML. Another account's connection always looks exactly like a missing one (NotFoundError)."""
