"""Errors in Dataverse's shape: `{"error":{"code":"0x…","message":"…"}}` with the HTTP status it uses.

Codes marked (sandbox) are this sandbox's choice where the real code is unknown; clients should key on
the HTTP status, as the connector does."""

from __future__ import annotations

from typing import Any


class DataverseError(Exception):
    def __init__(self, status: int, code: str, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers or {}

    def body(self) -> dict[str, Any]:
        return {"error": {"code": self.code, "message": self.message}}


def not_found_segment(segment: str) -> DataverseError:
    return DataverseError(404, "0x80060888", f"Resource not found for the segment '{segment}'.")


def not_a_member() -> DataverseError:
    """An app's token for an environment where no application user was created for it. Not on Learn; the
    code and message as Dataverse answers (MicrosoftDocs/power-platform#2124, microsoft/powercat-business-
    approvals-kit#135 and #293: HTTP 403, 0x80072560). Learn, "Manage application users in the Power
    Platform admin center", says the app user must be created, with a security role, per environment."""
    return DataverseError(403, "0x80072560", "The user is not a member of the organization.")


def key_not_active(table: str, key: str, status: str) -> DataverseError:
    """Learn ("Define alternate keys") says a key serves only once its index is Active; the answer to a
    request by a key that is not is unverified: a 400 (sandbox code and words), never a silent create."""
    return DataverseError(
        400,
        "0x80060892",  # (sandbox) code
        f"The alternate key '{key}' of entity '{table}' cannot be used yet: "
        f"EntityKeyIndexStatus is {status}.",
    )


def record_missing(table: str, row_id: str) -> DataverseError:
    return DataverseError(404, "0x80040217", f"Entity '{table}' With Id = {row_id} Does Not Exist")


def invalid_property(prop: str, table: str) -> DataverseError:
    return DataverseError(
        400, "0x80060888", f"Invalid property '{prop}' was found in entity 'Microsoft.Dynamics.CRM.{table}'."
    )


def unknown_property(prop: str, table: str) -> DataverseError:
    # Learn, "Troubleshoot Dataverse Web API client errors" (troubleshoot/power-platform/power-apps/
    # dataverse-web-api/web-api-client-errors), "Could not find a property named ...": a $select naming a
    # column the table lacks is HTTP 400 with code "0x0" (not 0x80060888); the same answer is quoted in
    # MicrosoftDocs/dynamics-365-customer-engagement#678 (inside an $expand too) and verbb/formie#1185.
    return DataverseError(
        400,
        "0x0",
        f"Could not find a property named '{prop}' on type 'Microsoft.Dynamics.CRM.{table}'.",
    )


def bad_payload(detail: str) -> DataverseError:
    return DataverseError(
        400,
        "0x80048d19",
        "Error identified in Payload provided by the user for Entity :'', For more information on this error "
        f"please follow this help link https://go.microsoft.com/fwlink/?linkid=2195293  ----> "
        f"InnerException : Microsoft.OData.ODataException: {detail}",
    )


def bad_query(message: str) -> DataverseError:
    return DataverseError(400, "0x80060888", message)


def version_mismatch() -> DataverseError:
    return DataverseError(
        412,
        "0x80060882",
        "The version of the existing record doesn't match the RowVersion property provided.",
    )


def already_exists() -> DataverseError:
    return DataverseError(412, "0x80040237", "A record with matching key values already exists.")


def duplicate_key(table: str, key: str, attributes: tuple[str, ...]) -> DataverseError:
    return DataverseError(
        412,
        "0x80060892",
        f"A record that has the attribute values {', '.join(attributes)} already exists. "
        f"The entity key {key} "
        "requires that this set of attributes contains unique values. Select unique values and try again.",
    )


def validation(message: str, code: str = "0x80044331") -> DataverseError:
    return DataverseError(400, code, message)


def read_only_invoice(row_id: str) -> DataverseError:
    # (sandbox) code; Dataverse refuses changes to paid and canceled invoices until they are reactivated
    return DataverseError(
        400, "0x80043e06", f"The invoice {row_id} is paid or canceled and cannot be edited."
    )


def missing_privilege(
    user_id: str, privilege: str, privilege_id: str, otc: int, table: str
) -> DataverseError:
    return DataverseError(
        403,
        "0x80040220",
        f"Principal user (Id={user_id}, type=8, roleCount=1, privilegeCount=0, accessMode=0), is missing "
        f"{privilege} privilege (Id={privilege_id}) on OTC={otc} for entity '{table}'. "
        "context.Caller=" + user_id,
    )


def metadata_duplicate(message: str) -> DataverseError:
    return DataverseError(400, "0x80047013", message)  # (sandbox) code


def too_many_requests(limit: int, window_seconds: int, retry_after: int) -> DataverseError:
    return DataverseError(
        429,
        "0x80072322",
        f"Number of requests exceeded the limit of {limit} over time window of {window_seconds} seconds.",
        {"Retry-After": str(retry_after)},
    )


def service_unavailable() -> DataverseError:
    return DataverseError(
        503, "0x80040216", "An unexpected error occurred. The service is temporarily unavailable."
    )


def unexpected() -> DataverseError:
    return DataverseError(500, "0x80040216", "An unexpected error occurred.")
