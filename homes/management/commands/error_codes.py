"""Print the error-code catalogue, or keep docs/api.md's table of it in step."""
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from veahome.error_codes import markdown_table

BEGIN = "<!-- error-codes:begin (manage.py error_codes --write) -->\n"
END = "<!-- error-codes:end -->\n"


def docs_path() -> Path:
    return Path(settings.BASE_DIR) / "docs" / "api.md"


def with_table(text: str) -> str:
    head, begin, rest = text.partition(BEGIN)
    _, end, tail = rest.partition(END)
    if not begin or not end:
        raise CommandError(f"docs/api.md has no {BEGIN.strip()} ... {END.strip()} block")
    return head + BEGIN + markdown_table() + END + tail


class Command(BaseCommand):
    help = "Print the error-code table; --write puts it into docs/api.md, --check fails if that is stale."
    requires_system_checks = []  # a documentation tool: no settings of a deployment needed

    def add_arguments(self, parser):
        group = parser.add_mutually_exclusive_group()
        group.add_argument("--write", action="store_true", help="rewrite the table in docs/api.md")
        group.add_argument("--check", action="store_true", help="exit 1 if docs/api.md's table is stale")

    def handle(self, *args, write=False, check=False, **options):
        if not write and not check:
            self.stdout.write(markdown_table(), ending="")
            return
        path = docs_path()
        current = path.read_text()
        updated = with_table(current)
        if check:
            if updated != current:
                raise CommandError("docs/api.md's error table is stale: run manage.py error_codes --write")
            self.stdout.write("docs/api.md's error table is up to date")
            return
        path.write_text(updated)
        self.stdout.write(f"wrote the error table into {path}")
