"""Reads and writes of table rows: GET (collection, single, related), POST (with deep insert), PATCH
(update, upsert, alternate keys, If-Match / If-None-Match), PUT of one column, DELETE."""

from __future__ import annotations

from typing import Any

from . import errors, privileges
from .metadata_model import Table
from .odata_format import Formatter, annotation_filter, etag, row_getter
from .odata_path import KeyValue, Segment
from .odata_query import QueryOptions, parse_query
from .payload import convert, parse_json, read_payload
from .records import create_row, delete_row, find_by_key, update_row
from .solutions import COMPONENT_OF_TABLE, SOLUTION_HEADER, add_component, forget_component, forget_solution
from .store import Ref, Row
from .webapi_types import ApiRequest, ApiResponse

DEFAULT_PAGE_SIZE = 5000


def handle_rows(req: ApiRequest, table: Table, segments: list[Segment]) -> ApiResponse:
    first = segments[0]
    if len(segments) == 1 and first.key is None:
        if req.method == "GET":
            return _get_collection(req, table)
        if req.method == "POST":
            return _create(req, table)
        raise errors.DataverseError(405, "0x80060888", f"The HTTP method '{req.method}' is not allowed here.")
    if first.key is None:
        raise errors.not_found_segment(segments[1].raw)
    if len(segments) == 1:
        if req.method == "GET":
            return _get_single(req, table, first.key)
        if req.method == "PATCH":
            return _patch(req, table, first.key)
        if req.method == "DELETE":
            return _delete(req, table, first.key)
        raise errors.DataverseError(405, "0x80060888", f"The HTTP method '{req.method}' is not allowed here.")
    return _related(req, table, first.key, segments[1:])


def find_row(req: ApiRequest, table: Table, key: KeyValue) -> Row | None:
    if isinstance(key, str):
        return req.env.get(table.logical_name, key)
    for name in key:
        if table.attributes.get(name) is None:
            raise errors.bad_query(f"Invalid key: '{name}' is not a column of {table.logical_name}.")
    defined = next((k for k in table.keys.values() if set(k.attributes) == set(key)), None)
    if defined is None:
        raise errors.bad_query(
            f"The key attribute(s) {', '.join(key)} of entity {table.logical_name} "
            "is not a defined alternate key."
        )
    status = defined.index_status()
    if status != "Active":
        raise errors.key_not_active(table.logical_name, defined.logical_name, status)
    return find_by_key(req.env, table, key)


def _formatter(req: ApiRequest) -> Formatter:
    return Formatter(req.env, annotation_filter(req.prefer))


def _context_url(req: ApiRequest, table: Table, single: bool) -> str:
    return f"{req.api_url}$metadata#{table.entity_set}" + ("/$entity" if single else "")


def _get_collection(req: ApiRequest, table: Table) -> ApiResponse:
    privileges.require(req.env, req.user_id, privileges.required_privilege(table, "GET"), table)
    options = parse_query(req.env, table, req.args)
    matching = _query(table, req.env.all_rows(table.logical_name), options, apply_top=False)
    rows = matching[: options.top] if options.top is not None else matching
    page_size = _page_size(req.prefer)
    page = rows[options.skip_token : options.skip_token + page_size]
    body: dict[str, Any] = {"@odata.context": _context_url(req, table, False)}
    if options.count:
        body["@odata.count"] = len(matching)  # OData: the count ignores $top
    body["value"] = _formatter(req).records(table, page, options)
    if options.skip_token + page_size < len(rows):
        args = {k: v for k, v in req.args.items() if k != "$skiptoken"}
        query = "&".join(f"{k}={v}" for k, v in args.items())
        body["@odata.nextLink"] = (
            f"{req.api_url}{req.path}?{query}&$skiptoken={options.skip_token + page_size}"
        )
    return ApiResponse(200, body, _preference_applied(req))


def _query(table: Table, rows: list[Row], options: QueryOptions, apply_top: bool = True) -> list[Row]:
    if options.filter is not None:
        rows = [r for r in rows if options.filter(row_getter(table, r))]
    for prop, descending in reversed(options.orderby):
        rows.sort(key=lambda r, p=prop: _sort_key(row_getter(table, r)(p)), reverse=descending)  # type: ignore[misc]
    return rows[: options.top] if apply_top and options.top is not None else rows


def _sort_key(value: Any) -> tuple[int, Any]:
    if value is None:
        return (0, "")
    return (1, value.lower() if isinstance(value, str) else value)


def _page_size(prefer: str) -> int:
    for part in prefer.split(","):
        name, _, value = part.strip().partition("=")
        if name == "odata.maxpagesize" and value.strip('"').isdigit():
            return max(1, min(int(value.strip('"')), DEFAULT_PAGE_SIZE))
    return DEFAULT_PAGE_SIZE


def _preference_applied(req: ApiRequest) -> dict[str, str]:
    applied = [
        p.strip()
        for p in req.prefer.split(",")
        if p.strip().startswith(("odata.include-annotations", "odata.maxpagesize"))
    ]
    return {"Preference-Applied": ",".join(applied)} if applied else {}


def _get_single(req: ApiRequest, table: Table, key: KeyValue) -> ApiResponse:
    privileges.require(req.env, req.user_id, privileges.required_privilege(table, "GET"), table)
    options = parse_query(req.env, table, req.args)
    row = find_row(req, table, key)
    if row is None:
        raise errors.record_missing(table.logical_name, str(key))
    if req.header("If-None-Match") == etag(row):
        return ApiResponse(304)
    body = {"@odata.context": _context_url(req, table, True), **_formatter(req).record(table, row, options)}
    return ApiResponse(200, body, {"ETag": etag(row), **_preference_applied(req)})


def _related(req: ApiRequest, table: Table, key: KeyValue, rest: list[Segment]) -> ApiResponse:
    row = find_row(req, table, key)
    if row is None:
        raise errors.record_missing(table.logical_name, str(key))
    name = rest[0].name
    if name in table.one_to_many and len(rest) == 1 and req.method == "GET":
        link = table.one_to_many[name]
        child = req.env.tables[link.table]
        privileges.require(req.env, req.user_id, privileges.required_privilege(child, "GET"), child)
        options = parse_query(req.env, child, req.args)
        children = [
            r
            for r in req.env.all_rows(child.logical_name)
            if isinstance(r.get(link.attribute), Ref) and r[link.attribute].id == row[table.primary_id]
        ]
        rows = _query(child, children, options)
        body = {
            "@odata.context": _context_url(req, child, False),
            "value": _formatter(req).records(child, rows, options),
        }
        return ApiResponse(200, body)
    if name in table.many_to_one and len(rest) == 2 and rest[1].name == "$ref" and req.method == "DELETE":
        return _write_values(req, table, row, {table.many_to_one[name].attribute: None})
    attribute = table.attribute_by_property(name)
    if attribute is None or len(rest) != 1:
        raise errors.not_found_segment(rest[0].raw)
    if req.method == "GET":
        privileges.require(req.env, req.user_id, privileges.required_privilege(table, "GET"), table)
        value = row.get(attribute.logical_name)
        return ApiResponse(
            200,
            {
                "@odata.context": f"{_context_url(req, table, False)}({row[table.primary_id]})/{name}",
                "value": value.id if isinstance(value, Ref) else value,
            },
        )
    if req.method == "PUT":
        return _write_values(
            req,
            table,
            row,
            {attribute.logical_name: convert(table, attribute, parse_json(req.body).get("value"))},
        )
    if req.method == "DELETE":
        return _write_values(req, table, row, {attribute.logical_name: None})
    raise errors.DataverseError(405, "0x80060888", f"The HTTP method '{req.method}' is not allowed here.")


def _write_values(req: ApiRequest, table: Table, row: Row, values: Row) -> ApiResponse:
    privileges.require(req.env, req.user_id, privileges.required_privilege(table, "PATCH"), table)
    update_row(req.env, table, row[table.primary_id], values, req.ctx)
    return ApiResponse(204)


def _create(req: ApiRequest, table: Table) -> ApiResponse:
    privileges.require(req.env, req.user_id, privileges.required_privilege(table, "POST"), table)
    payload = read_payload(req.env, table, parse_json(req.body), req.content_ids)
    # A deep insert is one transaction: a failing line leaves no invoice behind.
    snapshot, published = (req.env.snapshot() if payload.children else None), len(req.ctx.changes)
    try:
        row = create_row(req.env, table, payload.values, req.ctx)
        for nav, bodies in payload.children.items():
            _create_children(req, table, row, nav, bodies)
    except errors.DataverseError:
        if snapshot is not None:
            req.env.restore(snapshot)
            del req.ctx.changes[published:]
        raise
    component = COMPONENT_OF_TABLE.get(table.logical_name)
    if component is not None:  # webhook registrations are solution components too
        add_component(req.env, req.header(SOLUTION_HEADER), row[table.primary_id], component)
    return _written(req, table, row[table.primary_id], created=True)


def _create_children(req: ApiRequest, table: Table, row: Row, nav: str, bodies: list[dict[str, Any]]) -> None:
    link = table.one_to_many[nav]
    child_table = req.env.tables[link.table]
    privileges.require(req.env, req.user_id, privileges.required_privilege(child_table, "POST"), child_table)
    for body in bodies:
        child = read_payload(req.env, child_table, body, req.content_ids)
        child.values[link.attribute] = Ref(row[table.primary_id], table.logical_name)
        create_row(req.env, child_table, child.values, req.ctx)


def _written(req: ApiRequest, table: Table, row_id: str, created: bool) -> ApiResponse:
    entity_url = f"{req.api_url}{table.entity_set}({row_id})"
    headers = {"OData-EntityId": entity_url, "Location": entity_url}
    row = req.env.get(table.logical_name, row_id) or {}
    headers["ETag"] = etag(row)
    if not req.wants_representation():
        return ApiResponse(204, None, headers)
    options = parse_query(req.env, table, req.args)
    body = {"@odata.context": _context_url(req, table, True), **_formatter(req).record(table, row, options)}
    return ApiResponse(201 if created else 200, body, {**headers, **_preference_applied(req)})


def _patch(req: ApiRequest, table: Table, key: KeyValue) -> ApiResponse:
    row = find_row(req, table, key)
    if_match, if_none_match = req.header("If-Match"), req.header("If-None-Match")
    payload = read_payload(req.env, table, parse_json(req.body), req.content_ids)
    if payload.children:
        raise errors.bad_payload("Deep insert is only supported when creating a record.")
    if row is None:
        if if_match:
            raise errors.record_missing(table.logical_name, str(key))
        privileges.require(req.env, req.user_id, privileges.required_privilege(table, "POST"), table)
        values = dict(payload.values)
        row_id = key if isinstance(key, str) else None
        if isinstance(key, dict):
            values.update({k: convert(table, table.attributes[k], v) for k, v in key.items()})
        created = create_row(req.env, table, values, req.ctx, row_id=row_id)
        return _written(req, table, created[table.primary_id], created=True)
    if if_none_match == "*":
        raise errors.already_exists()
    if if_match and if_match != "*" and if_match != etag(row):
        raise errors.version_mismatch()
    privileges.require(req.env, req.user_id, privileges.required_privilege(table, "PATCH"), table)
    update_row(req.env, table, row[table.primary_id], payload.values, req.ctx)
    return _written(req, table, row[table.primary_id], created=False)


def _delete(req: ApiRequest, table: Table, key: KeyValue) -> ApiResponse:
    privileges.require(req.env, req.user_id, privileges.required_privilege(table, "DELETE"), table)
    row = find_row(req, table, key)
    if row is None:
        raise errors.record_missing(table.logical_name, str(key))
    if_match = req.header("If-Match")
    if if_match and if_match != "*" and if_match != etag(row):
        raise errors.version_mismatch()
    if table.logical_name == "solution":  # only the group goes, its components stay (solutions.py)
        forget_solution(req.env, row)
    if table.logical_name in COMPONENT_OF_TABLE:
        forget_component(req.env, str(row[table.primary_id]))
    delete_row(req.env, table, row[table.primary_id], req.ctx)
    return ApiResponse(204)
