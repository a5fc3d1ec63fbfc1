"""Azure Storage clients built from settings: a connection string locally (Azurite), the managed
identity with service URIs in Azure (no account keys). Built lazily by callers, never at import."""

from __future__ import annotations

import functools
import logging
from typing import Any

import requests
from azure.core.pipeline.transport import RequestsTransport
from azure.data.tables import TableServiceClient
from azure.storage.queue import (
    QueueClient,
    QueueServiceClient,
    TextBase64DecodePolicy,
    TextBase64EncodePolicy,
)
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from shared.config import Settings

# Azurite's documented development endpoints, for "UseDevelopmentStorage=true".
_DEVELOPMENT_STORAGE = (
    "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;"
    "AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;"
    "BlobEndpoint=http://127.0.0.1:10000/devstoreaccount1;QueueEndpoint=http://127.0.0.1:10001/devstoreaccount1;"
    "TableEndpoint=http://127.0.0.1:10002/devstoreaccount1;"
)


# Kept connections to storage per process. The SDK's own transport keeps 10 per client; the invoice
# worker runs 24 invocations at once (host.json's batchSize 16 + newBatchThreshold 8) and webhooks arrive
# beside them, so past 10 every call opened a connection of its own (a TLS handshake in Azure) and urllib3
# dropped it after one use ("Connection pool is full, discarding connection").
POOL_SIZE = 64


@functools.cache
def _session() -> requests.Session:
    """One session for every storage client of the process: its connections are reused by all of them.
    No proxy or ~/.netrc lookups from the environment (trust_env off): storage is reached directly (a
    private endpoint or Azurite), and requests would otherwise look for a .netrc file on every call."""
    session = requests.Session()
    session.trust_env = False
    # As the SDK's own adapter: urllib3 never retries (the SDK's retry policy does) nor raises on status.
    retries = Retry(total=False, redirect=False, raise_on_status=False)
    adapter = HTTPAdapter(pool_connections=POOL_SIZE, pool_maxsize=POOL_SIZE, max_retries=retries)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    return session


def _direct() -> dict[str, Any]:
    """Client options: the process's shared session (a transport per client, closing only itself)."""
    transport = RequestsTransport(
        session=_session(),
        session_owner=False,
        use_env_settings=False,
        connection_timeout=20,  # the storage SDK's own defaults (azure/storage/queue/_shared/constants.py)
        read_timeout=60,
    )
    return {"transport": transport, "use_env_settings": False}


# The Azure SDK logs every request URL at INFO (azure.core's HTTP logging policy); table URLs carry
# PartitionKey/RowKey, which for account rows is an encoded e-mail address. Our own lines say what matters.
SDK_LOG_LEVEL = logging.WARNING


def quiet_sdk_logs() -> None:
    logging.getLogger("azure").setLevel(SDK_LOG_LEVEL)


def _connection_string(settings: Settings) -> str:
    value = settings.storage_connection
    return _DEVELOPMENT_STORAGE if value.strip() == "UseDevelopmentStorage=true" else value


@functools.cache
def _credential() -> Any:
    from azure.identity import DefaultAzureCredential  # heavy: only in Azure, only when first needed

    return DefaultAzureCredential()


def _queue_uri(settings: Settings) -> str:
    if not settings.storage_queue_uri:
        raise RuntimeError("set AzureWebJobsStorage or AzureWebJobsStorage__queueServiceUri")
    return settings.storage_queue_uri


def queue_service(settings: Settings, **options: Any) -> QueueServiceClient:
    quiet_sdk_logs()
    options = {**_direct(), **options}
    if settings.storage_connection:
        return QueueServiceClient.from_connection_string(_connection_string(settings), **options)
    return QueueServiceClient(_queue_uri(settings), credential=_credential(), **options)


def queue_client(settings: Settings, queue_name: str) -> QueueClient:
    """A client for one queue that writes and reads base64 bodies, as the Functions host does."""
    codecs: dict[str, Any] = {
        "message_encode_policy": TextBase64EncodePolicy(),
        "message_decode_policy": TextBase64DecodePolicy(),
        **_direct(),
    }
    if settings.storage_connection:
        return QueueClient.from_connection_string(_connection_string(settings), queue_name, **codecs)
    return QueueClient(_queue_uri(settings), queue_name, credential=_credential(), **codecs)


def table_service(settings: Settings, **options: Any) -> TableServiceClient:
    quiet_sdk_logs()
    options = {**_direct(), **options}
    if settings.storage_connection:
        return TableServiceClient.from_connection_string(_connection_string(settings), **options)
    if not settings.storage_table_uri:
        raise RuntimeError("set AzureWebJobsStorage or AzureWebJobsStorage__tableServiceUri")
    return TableServiceClient(settings.storage_table_uri, credential=_credential(), **options)
