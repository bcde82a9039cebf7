"""The example notebook runs from top to bottom (so it cannot rot)."""
from __future__ import annotations

import os

import nbformat
from nbclient import NotebookClient

EXAMPLES = os.path.join(os.path.dirname(__file__), "..", "examples")


def test_quickstart_notebook_executes():
    os.environ.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")  # quiet kernel start
    path = os.path.join(EXAMPLES, "quickstart.ipynb")
    nb = nbformat.read(path, as_version=4)
    NotebookClient(nb, timeout=180, kernel_name="python3",
                   resources={"metadata": {"path": EXAMPLES}}).execute()
    outputs = [o for cell in nb.cells if cell.cell_type == "code" for o in cell.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    assert any("image/png" in o.get("data", {}) for o in outputs)
