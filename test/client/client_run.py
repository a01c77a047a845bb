"""Drives the platform's own Python client (the pinned, unmodified `redivis` package) against
`tabular-export serve`, as a user would, and prints what it saw as JSON on stdout.

Usage: python client_run.py '<json config>'  with PYTHONPATH = the client's folder.
Config: endpoint, token, ref (owner.dataset.table), out (a directory), formats (list), missing
(a reference to a table that does not exist), steps (any of "describe", "download", "again",
"errors").
"""
import json
import os
import sys


def main():
    config = json.loads(sys.argv[1])
    os.environ["REDIVIS_API_ENDPOINT"] = config["endpoint"]
    os.environ["REDIVIS_API_TOKEN"] = config["token"]
    for name in ("REDIVIS_DEFAULT_NOTEBOOK", "REDIVIS_DEFAULT_WORKFLOW", "REDIVIS_DEFAULT_DATASET", "REDIVIS_ENV"):
        os.environ.pop(name, None)
    os.environ["NO_PROXY"] = ",".join(filter(None, [os.environ.get("NO_PROXY"), "127.0.0.1", "localhost"]))

    import redivis  # noqa: E402 (after the environment is set)

    steps = config["steps"]
    table = redivis.table(config["ref"])
    result = {}
    if "describe" in steps:
        got = table.get()
        result["table"] = got.properties
        result["variables"] = [v.properties for v in table.list_variables()]
        result["firstTwoVariables"] = [v.properties["name"] for v in table.list_variables(max_results=2)]
    if "download" in steps:
        result["downloads"] = {}
        for fmt in config["formats"]:
            target = os.path.join(config["out"], fmt)
            os.makedirs(target, exist_ok=True)
            paths = table.download(target, format=fmt, progress=False)
            entry = {"paths": sorted(str(p) for p in paths)}
            if "again" in steps:
                # A second download to the same place, without overwrite: the client keeps the
                # files it has when x-redivis-size and x-redivis-hash say they are the same.
                try:
                    entry["again"] = sorted(str(p) for p in table.download(target, format=fmt, progress=False))
                except Exception as error:  # noqa: BLE001 (reported to the test, which fails on it)
                    entry["againError"] = f"{type(error).__name__}: {error}"
            result["downloads"][fmt] = entry
    if "errors" in steps:
        result["errors"] = {}
        try:
            redivis.table(config["missing"]).get()
            result["errors"]["missing"] = "no error"
        except Exception as error:  # noqa: BLE001
            result["errors"]["missing"] = type(error).__name__
        os.environ["REDIVIS_API_TOKEN"] = "not-the-token"
        try:
            table.download(os.path.join(config["out"], "wrong-token"), format="csv", progress=False)
            result["errors"]["wrongToken"] = "no error"
        except Exception as error:  # noqa: BLE001
            result["errors"]["wrongToken"] = type(error).__name__
        result["errors"]["wrongTokenFiles"] = os.path.exists(os.path.join(config["out"], "wrong-token"))
    print(json.dumps(result))


if __name__ == "__main__":
    main()
