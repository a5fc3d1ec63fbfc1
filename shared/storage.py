"""Azure Storage clients built from settings: a connection string locally (Azurite), the managed
identity with service URIs in Azure (no account keys). Built lazily by callers, never at import."""

from __future__ import annotations

import functools
import logging
from typing import Any

from azure.data.tables import TableServiceClient
from azure.storage.queue import (
    QueueClient,
    QueueServiceClient,
    TextBase64DecodePolicy,
    TextBase64EncodePolicy,
)

from shared.config import Settings
from shared.storage_transport import ConnectionPool, HttpClientTransport

# Azurite's documented development endpoints, for "UseDevelopmentStorage=true".
_DEVELOPMENT_STORAGE = (
    "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;"
    "AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;"
    "BlobEndpoint=http://127.0.0.1:10000/devstoreaccount1;QueueEndpoint=http://127.0.0.1:10001/devstoreaccount1;"
    "TableEndpoint=http://127.0.0.1:10002/devstoreaccount1;"
)


# Kept connections to storage per process. The SDK's own transport keeps 10 per client; the invoice
# worker runs 24 invocations at once (host.json's batchSize 16 + newBatchThreshold 8) and webhooks arrive
# beside them, so past 10 every call opened a connection of its own (a TLS handshake in Azure) and dropped
# it after one use. Idle connections kept per storage host:
POOL_SIZE = 64


@functools.cache
def connection_pool() -> ConnectionPool:
    """The process's kept connections to storage, shared by every client."""
    # The storage SDK's own timeout defaults (azure/storage/queue/_shared/constants.py).
    return ConnectionPool(POOL_SIZE, connect_timeout=20, read_timeout=60)


def _direct() -> dict[str, Any]:
    """Client options: a transport on the process's connection pool (shared/storage_transport.py: the
    requests transport cost most of each call's CPU). No proxy settings from the environment: storage
    is reached directly (a private endpoint or Azurite)."""
    return {"transport": HttpClientTransport(connection_pool()), "use_env_settings": False}


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
