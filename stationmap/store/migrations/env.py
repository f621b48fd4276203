"""Alembic environment: always run on the connection ``stationmap.store.migrate`` passes in."""

from alembic import context


def run() -> None:
    """Migrate on the caller's connection, in one transaction: a failed step leaves the schema as it was."""
    connection = context.config.attributes["connection"]
    context.configure(connection=connection, target_metadata=None, transactional_ddl=True)
    with context.begin_transaction():
        context.run_migrations()


if hasattr(context, "config"):      # not when merely imported (pytest collects the package's modules)
    run()
