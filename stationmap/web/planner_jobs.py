"""The planner page's long questions as jobs: ``/api/v1/coverage/jobs``.

A 10-site e-bike question over a city takes tens of seconds; held in one request it shows
only "computing…" and cannot be stopped. Here the page submits the question to the server's
heavy-work pool (:mod:`stationmap.jobs`), gets a job id at once (202), polls its stage and
progress (cells sampled, districts done, the solver's time), can cancel it (its worker process
is killed and replaced: the work really stops), and fetches the three answers it draws (table,
heat layer, gaps) when it is done — from this job's parts, or from ``GET /api/v1/coverage``
with ``f=json|cells|geojson``, which answers from the same job. The id goes in the page's URL,
so a reload resumes watching.

Identical questions on the same register version share one job (the pool's key), like the
plain API's answers. Without a pool (``serve --dev``, ``create_app`` in tests) there are no
jobs: 404, and the page asks ``/api/v1/coverage`` directly.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from flask import Flask, Response, current_app, request, url_for
from werkzeug.datastructures import FileStorage

from .. import jobs
from ..demand_files import DemandPoints, read_demand_bytes
from ..errors import DataFileError, InputError
from ..heavy import PAGE_PARTS, coverage_parts
from ..pool_service import PoolClient
from . import heavy, problems
from ._common import ApiBlueprint, current_dataset, language, openapi
from .planner import MIMETYPES, page_key, question_for
from .schemas import CoverageArgs

bp = ApiBlueprint("coverage_jobs", __name__, url_prefix="/api/v1",
                  description="Long coverage questions as jobs: progress, cancel, results.")

_NO_POOL = ("This server computes coverage in the request (no heavy-work pool): ask /api/v1/coverage. "
            "此服务器不以任务方式计算，请直接请求 /api/v1/coverage。")


def _pool() -> PoolClient:
    client = heavy.pool()
    if client is None:
        raise _Refusal(404, "Not Found", _NO_POOL)
    return client


class _Refusal(Exception):
    """A problem+json answer from deep inside a view."""

    def __init__(self, status: int, title: str, detail: str):
        super().__init__(detail)
        self.status, self.title, self.detail = status, title, detail


def _status(client: PoolClient, job_id: str) -> dict[str, Any]:
    """The job as this client holds it. Every id handed out here carries the client's own ticket
    (``<job>.<ticket>``): a bare job id, which another client could read off its own, is not
    found, so one planner's cancel never stops a question another planner is waiting for.
    """
    try:
        if not job_id.partition(".")[2]:
            raise InputError("a job id without its ticket", field="job")
        status = client.status(job_id)
    except InputError:
        raise _Refusal(404, "Not Found", f"{job_id!r} is not a job of this server (finished jobs are "
                                         "forgotten after a while). 没有这个任务（或已过期）。") from None
    status["id"] = job_id
    status["links"] = {"self": url_for("coverage_jobs.job", job_id=job_id),
                       **{f: url_for("coverage_jobs.part", job_id=job_id, part=f) for f in PAGE_PARTS}}
    return status


@bp.route("/coverage/jobs", methods=["POST"])
@bp.arguments(CoverageArgs(), location="query", as_kwargs=False)
@bp.response(202)
def submit_job(args):
    """Start a coverage question as a job (the page's table, heat layer and gaps)

    The same parameters as `GET /api/v1/coverage` (`f` is ignored). Answers 202 with the job's
    status and links; the same question on the same register joins the job already asked.
    Demand (optional): a multipart body with the file `demand` (CSV, XLSX or GeoJSON of points,
    `经度`/`lon`, `纬度`/`lat`, optional weight `人数`/`weight`, optional per-row `坐标系`) and
    `demand_coordsys` (rows without 坐标系: gcj02, the default, wgs84 or bd09); a bad file is a
    400 listing every problem with its row and column.
    """
    client = _pool()
    question = question_for(args)
    upload = request.files.get("demand")
    if upload is not None and upload.filename:
        question = dataclasses.replace(question, demand=_demand(upload))
    lang, coordsys = language(args["lang"]), args["coordsys"]
    tiles, key = current_app.config["TILES"], current_app.config["TIANDITU_KEY"]
    job_id = client.submit(page_key(question, lang, coordsys, tiles, key), coverage_parts,
                           (question, lang, coordsys, tiles, key),
                           float(current_app.config["COVERAGE_JOB_TIMEOUT_S"]),
                           current_dataset().register_version, True)
    status = _status(client, job_id)
    return status, 202, {"Location": status["links"]["self"], "Cache-Control": "no-store"}


@bp.route("/coverage/jobs/<job_id>", methods=["GET"])
@bp.response(200)
def job(job_id: str):
    """A job's state (queued, running, done, failed, cancelled), stage and progress

    `stage`: districts, sampling (`detail`: districts done of `total`, `cells` sampled),
    solver (`detail.limit_s`: its time limit; `stage_s`: its time so far), formatting.
    """
    return _status(_pool(), job_id), 200, {"Cache-Control": "no-store"}


@bp.route("/coverage/jobs/<job_id>", methods=["DELETE"])
@bp.response(200)
def cancel_job(job_id: str):
    """Cancel a job: its worker process is stopped and replaced; a job already ended stays as it is"""
    client = _pool()
    _status(client, job_id)
    cancelled = client.cancel(job_id)
    return {**_status(client, job_id), "cancelled": cancelled}, 200, {"Cache-Control": "no-store"}


@bp.route("/coverage/jobs/<job_id>/<any(json, cells, geojson, csv, xlsx):part>", methods=["GET"])
@bp.response(200)
def part(job_id: str, part: str):
    """A finished job's answer: `json`, `cells` (heat layer), `geojson` (gaps), `csv` or `xlsx`"""
    client = _pool()
    status = _status(client, job_id)
    if status["state"] in (jobs.QUEUED, jobs.RUNNING):
        raise _Refusal(409, "Conflict", "The job has not finished yet. 任务尚未完成。")
    if status["state"] == jobs.CANCELLED:
        raise _Refusal(410, "Gone", "The job was cancelled. 任务已取消。")
    try:
        parts = client.result(job_id, 0)
    except jobs.JobFailed as error:
        raise _Refusal(500, "Internal Server Error", f"The job failed: {error}. 计算失败。") from None
    response = Response(parts[part], mimetype=MIMETYPES[part], headers={"Cache-Control": "no-store"})
    if part in ("csv", "xlsx"):
        name = f"coverage-job-{job_id.partition('.')[0]}.{part}"             # the job's, not the ticket
        response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


def _demand(upload: FileStorage) -> DemandPoints:
    """The uploaded demand file, read as ``--demand`` and the register import read theirs;
    every bad cell is refused at once, by row and column (400 problem+json).
    """
    coordsys = request.form.get("demand_coordsys") or request.args.get("demand_coordsys") or "gcj02"
    try:
        return read_demand_bytes(upload.read(), upload.filename or "demand.csv", coordsys=coordsys)
    except DataFileError as error:
        raise _BadDemand(error) from None


class _BadDemand(Exception):
    """A demand upload that cannot be used, with every problem found in it."""

    def __init__(self, error: DataFileError):
        super().__init__(str(error))
        self.error = error


def _bad_demand(error: _BadDemand) -> Response:
    found = [{"parameter": "demand", "row": p.row, "column": p.field, "reason": p.reason}
             for p in error.error.problems]
    return problems.problem(400, "Invalid demand file",
                            f"{error.error.source}: {len(found)} problem(s); nothing was computed. "
                            "需求文件有误，未计算。", found)


def _refused(error: _Refusal) -> Response:
    return problems.problem(error.status, error.title, error.detail)


def init_app(app: Flask) -> None:
    """Register the job routes on ``app``."""
    openapi(app).register_blueprint(bp)
    app.register_error_handler(_Refusal, _refused)
    app.register_error_handler(_BadDemand, _bad_demand)
