"""What a "Connect to Xero" or "Connect to Dynamics" step ends in: the page renders one of these."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Choice:
    """One thing the customer can pick after signing in: a Xero organisation or a Dynamics environment."""

    id: str  # Xero tenant id, or the Dataverse environment (organisation) id
    name: str
    detail: str = ""  # e.g. the environment's URL


@dataclass(frozen=True)
class Connected:
    """The side is connected: `name` is the organisation or environment now in use."""

    name: str


@dataclass(frozen=True)
class NeedsChoice:
    """The sign-in gave access to several: show `choices`, then call choose(pick_token, id)."""

    pick_token: str = field(repr=False)
    choices: list[Choice]


@dataclass(frozen=True)
class ConnectFailed:
    """`message` is for the customer; `retry_possible` says whether to offer "Try again"."""

    message: str
    retry_possible: bool = True
    help_url: str = ""  # where the fix is made (an admin page), shown as a link beside the message
    retry_url: str = ""  # a page to try again from, when it is not the side's Connect button (on-premises)


ConnectResult = Connected | NeedsChoice | ConnectFailed

STATE_EXPIRED = "This sign-in link expired or was already used — start again."
CONNECTION_GONE = "This connection no longer exists."
