"""A local stand-in for Microsoft Dataverse (Dynamics 365): Entra ID and Global Discovery, the Web API
v9.2 with table definitions, $batch, privileges and service protection, webhooks that fire like
Dataverse's asynchronous service, a small HTML page to edit invoices, and a control API under /_sandbox/.

    sb = DataverseSandbox(cert_dir=tmp_path).start(port=0)
    sb.env_url("contoso")  # https://127.0.0.1:PORT/env/contoso ; Web API at …/api/data/v9.2/
"""

from .app import DataverseSandbox

__all__ = ["DataverseSandbox"]
