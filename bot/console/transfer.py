"""Import and export pages: CSV or YAML; an import is checked whole and lands as one draft."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import RedirectResponse, Response

from bot.console.auth import ConsoleDep, Editor, page
from bot.faq.review import ReviewRefused
from bot.faq.transfer import FORMATS, ImportErrors, export_faqs, parse_import

router = APIRouter(tags=["transfer"])

MEDIA_TYPES = {"csv": "text/csv; charset=utf-8", "yaml": "application/yaml; charset=utf-8"}
MAX_UPLOAD_BYTES = 5 * 1024 * 1024


@router.get("/transfer")
def transfer_page(request: Request, who: Editor, c: ConsoleDep) -> Response:
    return page(request, c, who, "transfer.html", formats=FORMATS, errors=[])


@router.get("/export.{fmt}")
def export(who: Editor, c: ConsoleDep, fmt: str) -> Response:
    if fmt not in FORMATS:
        return Response("Unknown format", status_code=404)
    versions = [r.version for r in c.reviews.list_records()]
    return Response(export_faqs(versions, fmt), media_type=MEDIA_TYPES[fmt],
                    headers={"Content-Disposition": f'attachment; filename="faqs.{fmt}"'})


@router.post("/import")
async def import_faqs(request: Request, who: Editor, c: ConsoleDep,
                      file: Annotated[UploadFile, File()],
                      comment: Annotated[str, Form()]) -> Response:
    name = (file.filename or "").lower()
    fmt = "csv" if name.endswith(".csv") else "yaml" if name.endswith((".yml", ".yaml")) else ""
    raw = await file.read(MAX_UPLOAD_BYTES + 1)
    errors: list[str] = []
    if not fmt:
        errors = ["The file name must end in .csv, .yml or .yaml."]
    elif len(raw) > MAX_UPLOAD_BYTES:
        errors = ["The file is larger than 5 MB."]
    else:
        try:
            text = raw.decode("utf-8-sig")
            changes = parse_import(text, fmt, live=[r.version for r in c.reviews.list_records()])
            if not changes:
                errors = ["The file matches the live FAQs: nothing to change."]
            else:
                draft = c.reviews.create_draft(changes=changes, author=who.user.username,
                                               comment=comment, kind="import")
                return RedirectResponse(f"{request.scope.get('root_path', '')}/drafts/{draft.id}",
                                        status_code=303)
        except UnicodeDecodeError:
            errors = ["The file is not UTF-8 text."]
        except ImportErrors as exc:
            errors = exc.errors
        except ReviewRefused as exc:
            errors = [exc.message]
    return page(request, c, who, "transfer.html", status_code=400, formats=FORMATS,
                errors=errors)
