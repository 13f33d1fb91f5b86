# Jupyter server configuration of the student's JupyterLab.
#
# tools/workspace.py (`make course`) and binder/start put this folder on JUPYTER_CONFIG_PATH,
# so it adds to the environment's configuration and the user's own, and changes nothing in
# the user's home. It gives the student nbgrader's student tools and not the instructor's,
# and a first start with no question to answer:
#
# - nbgrader's Validate button stays; its formgrader, course list and "Create Assignment"
#   sidebar, which are the instructor's, are switched off (server and JupyterLab parts);
# - the assignment list (fetch and submit through nbgrader's exchange) is kept where there is
#   an exchange to talk to, under a JupyterHub, and switched off elsewhere (Binder runs a
#   JupyterHub too, with no exchange);
# - JupyterLab neither asks about nor fetches news, nor checks for updates;
# - Markdown files open rendered, so the start page START.md reads as a page;
# - kernels start without a warning to read past.
import os

HERE = os.path.dirname(os.path.abspath(__file__))
UNDER_HUB = bool(os.environ.get("JUPYTERHUB_API_TOKEN")) and not os.environ.get("BINDER_LAUNCH_HOST")

c = get_config()  # noqa: F821 (provided by traitlets when the server loads this file)

c.ServerApp.jpserver_extensions = {
    "nbgrader.server_extensions.validate_assignment": True,
    "nbgrader.server_extensions.assignment_list": UNDER_HUB,
    "nbgrader.server_extensions.course_list": False,
    "nbgrader.server_extensions.formgrader": False,
}

# JupyterLab plugins that the page does not load.
DISABLED_PLUGINS = [
    "@jupyter/nbgrader:create-assignment",
    "@jupyter/nbgrader:formgrader",
    "@jupyter/nbgrader:course-list",
]
if not UNDER_HUB:
    # The Nbgrader menu offers the assignment list and the instructor's tools; without a
    # hub the student has none of them.
    DISABLED_PLUGINS += ["@jupyter/nbgrader:assignment-list", "@jupyter/nbgrader:menu"]


def disable_plugins(handler, page_config):
    """jupyterlab_server's page_config_hook: add the plugins above to the disabled ones."""
    disabled = page_config.get("disabledExtensions") or []
    page_config["disabledExtensions"] = sorted(set(disabled) | set(DISABLED_PLUGINS))
    return page_config


c.ServerApp.tornado_settings = {"page_config_hook": disable_plugins}

# Default settings of JupyterLab (lab-settings/overrides.json): no news prompt, Markdown
# opened rendered. The student can still change them in Settings.
c.LabApp.app_settings_dir = os.path.join(HERE, "lab-settings")
c.LabApp.news_url = None
c.LabApp.check_for_updates_class = "jupyterlab.handlers.announcements.NeverCheckForUpdate"

# The kernels' connections are encrypted where pyzmq can (otherwise every kernel started
# writes a warning that it runs "over TCP without encryption").
import zmq  # noqa: E402

if zmq.has("curve"):
    c.KernelManager.transport_encryption = "auto"
