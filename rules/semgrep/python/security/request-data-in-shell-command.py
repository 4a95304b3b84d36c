import asyncio
import os
import shlex
import subprocess
from typing import Annotated

import flask
from fastapi import APIRouter, Query
from flask import request
from flask import request as incoming

router = APIRouter()
ALLOWED_HOSTS = {"db.internal", "cache.internal"}
TOOLS = {"disk": "df -h", "memory": "free -m"}


# --- Flask -------------------------------------------------------------------------------


def flask_fstring_with_shell():
    host = request.args.get("host", "")
    # ruleid: request-data-in-shell-command
    return subprocess.check_output(f"ping -c 1 {host}", shell=True)


def flask_form_concatenated():
    name = request.form["name"]
    # ruleid: request-data-in-shell-command
    os.system("useradd " + name)


def flask_json_percent_format():
    payload = request.get_json()
    # ruleid: request-data-in-shell-command
    return os.popen("tar czf /tmp/out.tgz %s" % payload["path"]).read()


def flask_header_getoutput():
    agent = request.headers.get("User-Agent")
    # ruleid: request-data-in-shell-command
    return subprocess.getoutput("logger " + agent)


def flask_cookie_args_keyword():
    theme = request.cookies["theme"]
    # ruleid: request-data-in-shell-command
    subprocess.Popen(args="render --theme " + theme, shell=True)


def flask_raw_body_status_output():
    script = request.data.decode("utf-8")
    # ruleid: request-data-in-shell-command
    return subprocess.getstatusoutput("bash -c '%s'" % script)


def flask_module_attribute():
    branch = flask.request.values["branch"]
    # ruleid: request-data-in-shell-command
    subprocess.run("git checkout " + branch, shell=True, check=True)


def flask_aliased_import():
    # ruleid: request-data-in-shell-command
    os.system("convert {} out.png".format(incoming.args["file"]))


def flask_argument_list_without_shell():
    host = request.args.get("host", "")
    # ok: request-data-in-shell-command
    return subprocess.check_output(["ping", "-c", "1", "--", host])


def flask_argument_list_shell_false():
    host = request.args.get("host", "")
    # ok: request-data-in-shell-command
    return subprocess.run(["nslookup", host], shell=False, capture_output=True)


def flask_quoted():
    path = request.args["path"]
    # ok: request-data-in-shell-command
    return subprocess.check_output("du -sh " + shlex.quote(path), shell=True)


def flask_joined_argument_list():
    path = request.args["path"]
    # ok: request-data-in-shell-command
    os.system(shlex.join(["ls", "-l", path]))


def flask_integer_cast():
    pid = int(request.args["pid"])
    # ok: request-data-in-shell-command
    os.system(f"kill -TERM {pid}")


def flask_constant_table_lookup():
    command = TOOLS.get(request.args["tool"], "uptime")
    # ok: request-data-in-shell-command
    return subprocess.getoutput(command)


def flask_allow_listed_value():
    host = request.args["host"]
    if host in ALLOWED_HOSTS:
        # ok: request-data-in-shell-command
        os.system("ping -c 1 " + host)
    # ruleid: request-data-in-shell-command
    os.system("traceroute " + host)


def flask_request_value_only_in_cwd():
    folder = request.args["folder"]
    # ok: request-data-in-shell-command
    subprocess.run("make build", shell=True, cwd=folder)


def flask_positional_parameter_of_shell_script():
    host = request.args["host"]
    # ok: request-data-in-shell-command
    subprocess.run(["sh", "-c", 'ping -c 1 -- "$1"', "sh", host])


# --- Django and Django REST framework ------------------------------------------------------


def django_view(request, pk):
    # ruleid: request-data-in-shell-command
    os.system("grep {} /var/log/app.log".format(request.GET["q"]))


class ReportView:
    def post(self, request):
        command = "report --format " + request.POST.get("format", "pdf")
        # ruleid: request-data-in-shell-command
        subprocess.run(command, shell=True, check=True)


def django_header_from_meta(request):
    # ruleid: request-data-in-shell-command
    os.popen("echo " + request.META["HTTP_X_TRACE"])


async def django_async_view(request):
    # ruleid: request-data-in-shell-command
    await asyncio.create_subprocess_shell("zip -r out.zip " + request.body.decode())


class SearchView:
    def get(self, request):
        # ruleid: request-data-in-shell-command
        subprocess.call("find /srv -name " + request.query_params["name"], shell=True)


def django_view_constant_command(request):
    # ok: request-data-in-shell-command
    subprocess.run("systemctl reload nginx", shell=True)


# --- FastAPI -----------------------------------------------------------------------------


@router.get("/lookup")
async def fastapi_query_default(host: str = Query(...)):
    # ruleid: request-data-in-shell-command
    return subprocess.getoutput(f"dig +short {host}")


@router.get("/whois")
async def fastapi_annotated_query(domain: Annotated[str, Query(max_length=253)]):
    # ruleid: request-data-in-shell-command
    os.system("whois " + domain)


@router.post("/files/{name}")
def fastapi_path_parameter(name: str):
    # ruleid: request-data-in-shell-command
    subprocess.run(f"shred -u /uploads/{name}", shell=True)


@router.get("/procs/{pid}")
def fastapi_integer_parameter(pid: int, signal: int = Query(15)):
    # ok: request-data-in-shell-command
    os.system(f"kill -{signal} {pid}")
