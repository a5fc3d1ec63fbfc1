"""Xero -> Dynamics: Xero's signed webhooks in, what changed read back from Xero, written onto the
Dynamics invoice; and the sweep that heals what a lost webhook (either side's) left out of step."""
