// The dashboard window's preload (sandboxed: bundled to one CommonJS file, `electron` external).
import { contextBridge, ipcRenderer } from 'electron';
import { createBridge } from './bridge.js';

contextBridge.exposeInMainWorld('exoSentinel', createBridge(ipcRenderer));
