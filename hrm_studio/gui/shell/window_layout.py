"""The window's parts and where they sit: tabs under the banners, the settings and sweep docks,
menus and toolbar. Each builder puts its widgets on the window under the names the rest of
the shell (and the tests) use; none connects behaviour, which `MainWindow` wires.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QDockWidget, QMenu, QTabWidget, QToolBar, QVBoxLayout, QWidget

from hrm_studio.gui.metrics.plots import MetricsDashboard
from hrm_studio.gui.predictions.prediction_jobs import PredictionJobs
from hrm_studio.gui.predictions.predictions_tab import PredictionsTab
from hrm_studio.gui.runs.run_follow import RunFollowing
from hrm_studio.gui.runs.runs_tab import RunsTab
from hrm_studio.gui.settings.settings_panel import SettingsPanel
from hrm_studio.gui.shell.resume_offer import ResumeOffer
from hrm_studio.gui.shell.start_choice import StartChoice
from hrm_studio.gui.sweeps.sweep_results import SweepResultsPanel
from hrm_studio.gui.widgets.error_banner import ErrorBanner
from hrm_studio.gui.widgets.theme import is_dark, plot_colours

if TYPE_CHECKING:
    from hrm_studio.gui.shell.main_window import MainWindow

TABS = ("metrics", "predictions", "runs", "inspector", "editor")   # the last two: shell/analysis_tabs.py
SETTINGS_WIDTH = 330   # the settings dock's first width, in pixels


def build_central(window: MainWindow) -> None:
    """The resume offer and the error banner over the Metrics / Predictions / Runs tabs."""
    window.banner = ErrorBanner()
    window.resume_offer = ResumeOffer(window.user_state)
    window.dashboard = MetricsDashboard(plot_colours())
    window.predictions = PredictionsTab()
    window.prediction_jobs = PredictionJobs(window.predictions, window)
    window.runs_tab = RunsTab(window.runs_root, window.user_state)
    window.following = RunFollowing(window)   # a run folder another process is still writing
    window.tabs = QTabWidget()
    window.tabs.setDocumentMode(True)
    window.tabs.addTab(window.dashboard, "Metrics")
    window.tabs.addTab(window.predictions, "Predictions")
    window.tabs.addTab(window.runs_tab, "Runs")
    central = QWidget()
    layout = QVBoxLayout(central)
    layout.setContentsMargins(4, 4, 4, 0)
    layout.addWidget(window.resume_offer)
    layout.addWidget(window.banner)
    layout.addWidget(window.tabs, 1)
    window.setCentralWidget(central)


def build_docks(window: MainWindow) -> None:
    """Settings (with the Start choice above them) on the left; the sweep results below, hidden.

    Built around `build_central`, in reading order: the keyboard's Tab follows the order widgets joined
    the window, so it goes through the settings on the left, then the tabs, then the sweep dock below."""
    build_settings_dock(window)
    build_central(window)
    build_sweep_dock(window)


def build_settings_dock(window: MainWindow) -> None:
    window.start_choice = StartChoice()
    window.settings = SettingsPanel()
    body = QWidget()
    layout = QVBoxLayout(body)
    layout.setContentsMargins(0, 0, 0, 0)
    layout.addWidget(window.start_choice)
    layout.addWidget(window.settings, 1)
    window.settings_dock = QDockWidget("Settings", window)
    window.settings_dock.setObjectName("settingsDock")
    window.settings_dock.setWidget(body)
    window.settings_dock.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetMovable
                                     | QDockWidget.DockWidgetFeature.DockWidgetFloatable
                                     | QDockWidget.DockWidgetFeature.DockWidgetClosable)
    window.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, window.settings_dock)
    # Its form would ask for ~500 px; the tabs need the room more (the form scrolls, the dock can be
    # dragged wider, or closed with View → Settings).
    window.resizeDocks([window.settings_dock], [SETTINGS_WIDTH], Qt.Orientation.Horizontal)


def build_sweep_dock(window: MainWindow) -> None:
    window.sweep_panel = SweepResultsPanel()   # the live results table of the sweep queue
    window.sweep_dock = QDockWidget("Sweep", window)
    window.sweep_dock.setObjectName("sweepDock")
    window.sweep_dock.setWidget(window.sweep_panel)
    window.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, window.sweep_dock)
    window.sweep_dock.hide()


def build_menus(window: MainWindow) -> None:
    """File, Run, View and Help; Open recent fills itself when it opens."""
    a = window.commands
    file_menu = window.menuBar().addMenu("&File")
    for action in (a.new_run, a.open_checkpoint, a.open_run_folder):
        file_menu.addAction(action)
    window.recent_menu = file_menu.addMenu("Open &recent")
    window.recent_menu.aboutToShow.connect(
        lambda: fill_recent_menu(window.recent_menu, window.user_state.recent(), window.open_path))
    file_menu.addSeparator()
    for action in (a.save_checkpoint, a.export_plots, a.export_history, a.export_model):
        file_menu.addAction(action)
    file_menu.addSeparator()
    file_menu.addAction(a.quit)
    run_menu = window.menuBar().addMenu("&Run")
    for action in (a.start, a.pause, a.stop):
        run_menu.addAction(action)
    run_menu.addSeparator()
    run_menu.addAction(a.new_sweep)
    view_menu = window.menuBar().addMenu("&View")
    view_menu.addAction(window.settings_dock.toggleViewAction())
    view_menu.addAction(window.sweep_dock.toggleViewAction())
    view_menu.addSeparator()
    for index, name in enumerate(TABS):
        action = QAction(f"{window.tabs.tabText(index)} tab", window)
        action.setShortcut(QKeySequence(f"Ctrl+{index + 1}"))
        action.triggered.connect(lambda _=False, n=name: window.show_tab(n))
        view_menu.addAction(action)
    help_menu = window.menuBar().addMenu("&Help")
    a.about.setMenuRole(QAction.MenuRole.AboutRole)
    help_menu.addAction(a.about)


def build_toolbar(window: MainWindow) -> None:
    a = window.commands
    toolbar = QToolBar("Main toolbar", window)
    toolbar.setObjectName("mainToolbar")
    toolbar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
    toolbar.setMovable(False)
    for action in (a.new_run, a.open_checkpoint, None, a.start, a.pause, a.stop, None, a.save_checkpoint,
                   a.export_plots, a.export_model):
        if action is None:
            toolbar.addSeparator()
        else:
            toolbar.addAction(action)
    window.addToolBar(Qt.ToolBarArea.TopToolBarArea, toolbar)
    window.toolbar = toolbar


def fill_recent_menu(menu: QMenu, items: list[dict[str, Any]], open_path: Callable[[str], Any]) -> None:
    """The recent files and run folders, newest first; each opens what it names."""
    menu.clear()
    if not items:
        empty = menu.addAction("Nothing opened yet")
        empty.setEnabled(False)
        return
    for item in items:
        label = Path(item["path"]).name + (" (run folder)" if item["kind"] == "run" else "")
        action = menu.addAction(label)
        action.setToolTip(item["path"])
        action.triggered.connect(lambda _=False, p=item["path"]: open_path(p))


def style_sheet() -> str:
    """Red for settings that cannot work, in the light or dark palette in use."""
    red = "#ff6b6b" if is_dark() else "#c62828"
    return (f"QLabel#fieldError {{ color: {red}; }} QLabel[invalid=\"true\"] {{ color: {red}; }}"
            f"QLabel#hint {{ color: palette(placeholder-text); }}")
