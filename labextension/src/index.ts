/**
 * jupyter-qrt's JupyterLab extension: the Quantum sidebar, the login dialog, the status bar
 * item and the "Quantum" commands.
 *
 * Works in JupyterLab 4 and in Notebook 7: the commands and the model need nothing from the
 * shell; the sidebar goes to the left area where the shell has one, and the status item only
 * where there is a status bar (optional tokens).
 */
import {
  ILabShell,
  type JupyterFrontEnd,
  type JupyterFrontEndPlugin
} from '@jupyterlab/application';
import { ICommandPalette } from '@jupyterlab/apputils';
import { INotebookTracker, NotebookActions } from '@jupyterlab/notebook';
import { ISettingRegistry } from '@jupyterlab/settingregistry';
import { IStatusBar } from '@jupyterlab/statusbar';
import { ITranslator, nullTranslator } from '@jupyterlab/translation';
import { Signal } from '@lumino/signaling';

import { QRTClient } from './api/client';
import { serverRequester } from './api/connection';
import { quantumIcon } from './icons';
import { resultCellSource } from './model/views';
import type { QuantumModel } from './model/model';

/** The command ids (also in the DOM contract the UI tests use). */
export namespace CommandIDs {
  export const openSidebar = 'jupyter-qrt:open-sidebar';
  export const login = 'jupyter-qrt:login';
  export const refresh = 'jupyter-qrt:refresh';
}

const PLUGIN_ID = 'jupyter-qrt:plugin';
const CATEGORY = 'Quantum';
/** The commands take no arguments. */
const NO_ARGS = { args: { type: 'object' as const, properties: {} } };

const plugin: JupyterFrontEndPlugin<void> = {
  id: PLUGIN_ID,
  description:
    'The Quantum sidebar, login dialog and status bar of jupyter-qrt.',
  autoStart: true,
  optional: [
    ILabShell,
    ICommandPalette,
    INotebookTracker,
    ISettingRegistry,
    IStatusBar,
    ITranslator
  ],
  activate: async (
    app: JupyterFrontEnd,
    labShell: ILabShell | null,
    palette: ICommandPalette | null,
    notebooks: INotebookTracker | null,
    settingRegistry: ISettingRegistry | null,
    statusBar: IStatusBar | null,
    translator: ITranslator | null
  ): Promise<void> => {
    const trans = (translator ?? nullTranslator).load('jupyter_qrt');
    // The widgets load in their own chunk, off JupyterLab's start-up path.
    const [{ DEFAULT_REFRESH_SECONDS, QuantumModel }, widgets] =
      await Promise.all([import('./model/model'), import('./widgets')]);
    const model = new QuantumModel(new QRTClient(serverRequester()));
    const { commands, shell } = app;

    const insertCell = (jobId: string): void => {
      const panel = notebooks?.currentWidget ?? null;
      if (!panel) {
        model.report(
          trans.__(
            'Open a notebook first: the result cell goes into the current notebook.'
          )
        );
        return;
      }
      const notebook = panel.content;
      if (notebook.widgets.length > 0) {
        NotebookActions.insertBelow(notebook);
      } else {
        NotebookActions.insertAbove(notebook);
      }
      const cell = notebook.activeCell;
      if (cell) {
        NotebookActions.changeCellType(notebook, 'code');
        notebook.activeCell?.model.sharedModel.setSource(
          resultCellSource(jobId)
        );
      }
      model.report(null);
      shell.activateById(panel.id);
    };

    const sidebar = new widgets.QuantumSidebar(
      model,
      {
        login: () => void commands.execute(CommandIDs.login),
        insertCell,
        refresh: () => void commands.execute(CommandIDs.refresh)
      },
      trans
    );
    let hasSidebar = false;
    try {
      // JupyterLab's left area; Notebook 7's shell has a left area too (in the notebook view).
      shell.add(sidebar, 'left', { rank: 700, type: 'Quantum' });
      hasSidebar = true;
    } catch (reason) {
      console.warn('jupyter-qrt: this shell has no sidebar area', reason);
    }

    commands.addCommand(CommandIDs.openSidebar, {
      label: trans.__('Open the Quantum Sidebar'),
      caption: trans.__('Show accounts, devices and jobs of Qiskit Runtime'),
      icon: quantumIcon,
      describedBy: NO_ARGS,
      isEnabled: () => hasSidebar,
      execute: () => {
        if (labShell) {
          labShell.expandLeft();
        }
        shell.activateById(sidebar.id);
      }
    });
    commands.addCommand(CommandIDs.login, {
      label: trans.__('Log in to IBM Quantum…'),
      caption: trans.__(
        'Add an IBM Quantum account: the key goes to the Jupyter server only'
      ),
      describedBy: NO_ARGS,
      isEnabled: () => model.canLogin || !model.ready,
      execute: async () => {
        await widgets.showLoginDialog(model, trans);
      }
    });
    commands.addCommand(CommandIDs.refresh, {
      label: trans.__('Refresh Quantum Accounts, Devices and Jobs'),
      describedBy: NO_ARGS,
      execute: () => model.refresh({ jobs: true })
    });
    if (palette) {
      for (const command of Object.values(CommandIDs)) {
        palette.addItem({ command, category: CATEGORY });
      }
    }

    // Registered once (a status bar refuses an id twice); the setting only hides or shows it.
    let statusShown = true;
    const statusToggled = new Signal<QuantumModel, void>(model);
    const showStatus = (show: boolean): void => {
      if (show !== statusShown) {
        statusShown = show;
        statusToggled.emit();
      }
    };
    const statusItem = new widgets.QuantumStatus(
      model,
      () => void commands.execute(CommandIDs.openSidebar),
      trans
    );
    if (statusBar && labShell) {
      statusBar.registerStatusItem(`${PLUGIN_ID}:status`, {
        item: statusItem,
        align: 'left',
        rank: 900,
        isActive: () => statusShown,
        activeStateChanged: statusToggled
      });
    } else {
      // Notebook 7 shows no status bar: the item goes to its top area instead.
      statusItem.id = 'jp-qrt-status-top';
      app.shell.add(statusItem, 'top', { rank: 1000 });
      statusToggled.connect(() => statusItem.setHidden(!statusShown));
    }

    const apply = (settings: ISettingRegistry.ISettings): void => {
      const seconds = settings.get('refreshInterval').composite;
      model.refreshSeconds =
        typeof seconds === 'number' ? seconds : DEFAULT_REFRESH_SECONDS;
      showStatus(settings.get('showStatusBar').composite !== false);
    };
    if (settingRegistry) {
      settingRegistry
        .load(PLUGIN_ID)
        .then(settings => {
          apply(settings);
          settings.changed.connect(apply);
        })
        .catch(reason => {
          console.warn('jupyter-qrt: settings not loaded', reason);
          showStatus(true);
        });
    } else {
      showStatus(true);
    }

    void app.restored.then(() => model.start());
  }
};

export default plugin;
