"""`flask` commands: database set-up, the demo store, staff accounts."""

import secrets
from pathlib import Path

import click
from flask import Flask
from sqlalchemy import func, select

from checkout import jobs, outbox
from checkout.database import include_in_autogenerate
from checkout.demo.store import seed_demo_store
from checkout.extensions import db
from checkout.models import Product, StaffUser
from checkout.models.staff import ROLES
from checkout.notifications import run_scheduled_work
from checkout.staff.accounts import StaffAccountError, create_staff_member

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"


def enable_migrations(app: Flask) -> None:
    """Flask-Migrate on `app`, once: what Alembic's env.py and the `flask db` commands read from the app.

    Only the commands (and the tests) that migrate call this: Flask-Migrate brings Alembic, Mako and Pygments,
    about 8 MB that a web worker or the queue worker would carry for nothing (issue 18).
    """
    if "migrate" in app.extensions:
        return
    from flask_migrate import Migrate

    Migrate(app, db, directory=str(MIGRATIONS), render_as_batch=True, include_object=include_in_autogenerate)


class MigrationCommands(click.Group):
    """`flask db …`, Flask-Migrate's command group, loaded when a `db` command is parsed rather than at start."""

    def __init__(self, app: Flask):
        super().__init__("db", help="Perform database migrations (Flask-Migrate).")
        self.app = app

    def _commands(self) -> click.Group:
        enable_migrations(self.app)
        from flask_migrate.cli import db as commands

        # Its options (--directory, -x) and its callback (which hands them to the subcommands) become this group's.
        self.params, self.callback = commands.params, commands.callback
        return commands

    def make_context(self, info_name, args, parent=None, **extra):
        self._commands()
        return super().make_context(info_name, args, parent=parent, **extra)

    def list_commands(self, ctx):
        return self._commands().list_commands(ctx)

    def get_command(self, ctx, name):
        return self._commands().get_command(ctx, name)


def register(app: Flask) -> None:
    app.cli.add_command(MigrationCommands(app))

    @app.cli.command("init-db")
    def init_db():
        """Create or upgrade the database schema to the latest migration."""
        enable_migrations(app)
        from flask_migrate import upgrade

        upgrade()
        click.echo("Database is up to date.")

    @app.cli.command("seed-demo")
    @click.option("--if-empty", is_flag=True, help="Do nothing when the catalog already has products.")
    def seed_demo(if_empty: bool):
        """Fill the store with a demo catalog and settings."""
        if if_empty and db.session.scalar(select(func.count(Product.id))):
            click.echo("Catalog already has products; demo store not seeded.")
            return
        seed_demo_store()
        click.echo("Demo store seeded.")

    @app.cli.command("create-user")
    @click.option("--email", required=True)
    @click.option("--name", default="")
    @click.option("--role", type=click.Choice(ROLES), default="owner", show_default=True)
    @click.password_option(prompt="Password", help="Leave out to be asked.")
    def create_user(email: str, name: str, role: str, password: str):
        """Create a staff account (the same rules as the admin panel's staff page)."""
        try:
            user, _ = create_staff_member(email=email, name=name or email.split("@")[0], role=role, password=password)
        except StaffAccountError as error:
            raise click.ClickException(str(error)) from None
        click.echo(f"Created {role} {user.email}.")

    @app.cli.command("worker")
    @click.option("--workers", "-w", default=4, show_default=True, help="Threads taking jobs in this process.")
    def worker(workers: int):
        """Run a queue worker: sends WhatsApp messages and shop webhooks, processes webhooks, runs the sweeps."""
        jobs.run_jobs_in(app)  # jobs run in this app, made by create_app like the web server's
        consumer = jobs.huey.create_consumer(
            workers=workers,
            worker_type="thread",
            initial_delay=0.05,
            backoff=1.0,
            max_delay=0.5,
            scheduler_interval=1,
            periodic=True,
        )
        click.echo(f"Chatout worker: {workers} threads on the {app.config['CHATOUT_QUEUE']} queue. Ctrl+C stops it.")
        consumer.run()

    @app.cli.command("deliver-due")
    def deliver_due():
        """Deliver every outbox item that is due now, in this process (no worker needed)."""
        run_scheduled_work()
        click.echo(f"Outbox: {outbox.run_due() or 'nothing due'}")

    @app.cli.command("ensure-owner")
    @click.option(
        "--base-url",
        default=None,
        help="Where the admin is served (`make run` passes its HOST and PORT); default PUBLIC_BASE_URL, else :5000.",
    )
    def ensure_owner(base_url: str | None):
        """Create the first owner account with a random password if no staff account exists; print it once."""
        if db.session.scalar(select(func.count(StaffUser.id))):
            return
        password = secrets.token_urlsafe(12)
        user = StaffUser(email="owner@example.com", name="Owner", role="owner")
        user.set_password(password)
        db.session.add(user)
        db.session.commit()
        click.echo("=" * 60)
        click.echo("Admin login (shown once, change it after signing in):")
        base_url = (base_url or app.config["PUBLIC_BASE_URL"] or "http://127.0.0.1:5000").rstrip("/")
        click.echo(f"  {base_url}/admin/login")
        click.echo(f"  email:    {user.email}")
        click.echo(f"  password: {password}")
        click.echo("=" * 60)
