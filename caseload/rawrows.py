"""Model instances from rows read with hand-written SQL, exactly as the ORM would build them.

For the few hot statements that skip the ORM's compiler (name search's shown clients, the outbox's
claim): the row goes through each column's database converters (JSON, dates on SQLite, ...) and then
``Model.from_db``, as ``QuerySet`` iteration does; nothing is deferred.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from django.db import connections
from django.db.models import Model


class Quoted:
    """The quoted names of ``model``'s table and columns on a database, for hand-written statements:
    ``q.table``, ``q["field"]`` (a field's column; ``q["pk"]`` the primary key's)."""

    def __init__(self, model: type[Model], alias: str) -> None:
        self.opts = model._meta
        self.quote = connections[alias].ops.quote_name
        self.table = self.quote(self.opts.db_table)

    def __getitem__(self, name: str) -> str:
        return self.quote((self.opts.pk if name == "pk" else self.opts.get_field(name)).column)


def columns(model: type[Model], alias: str) -> str:
    """Every concrete column of ``model``, quoted, in field order: what ``loader`` reads.

    Kept per connection, as ``loader`` is: quoting forty columns again for each search was a tenth of a phone
    search's time."""
    connection = connections[alias]
    cache = connection.__dict__.setdefault("_caseload_columns", {})
    found = cache.get(model)
    if found is None:
        quote = connection.ops.quote_name
        found = cache[model] = ", ".join(quote(field.column) for field in model._meta.concrete_fields)
    return found


def loader(model: type[Model], alias: str) -> Callable[[Sequence[Any]], Model]:
    """A function turning a row of ``columns(model, alias)`` into a saved ``model`` instance."""
    connection = connections[alias]
    cache = connection.__dict__.setdefault("_caseload_loaders", {})
    if model in cache:
        return cache[model]
    fields = model._meta.concrete_fields
    names = [field.attname for field in fields]
    converters = []
    for index, field in enumerate(fields):
        column = field.get_col(model._meta.db_table)
        found = connection.ops.get_db_converters(column) + column.get_db_converters(connection)
        if found:
            converters.append((index, found, column))

    def load(row: Sequence[Any]) -> Model:
        if converters:
            row = list(row)
            for index, functions, column in converters:
                value = row[index]
                for function in functions:
                    value = function(value, column, connection)
                row[index] = value
        return model.from_db(alias, names, row)

    cache[model] = load
    return load
