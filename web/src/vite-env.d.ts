/// <reference types="vite/client" />

interface ImportMetaEnv {
  /** The build's version, shown in error reports. */
  readonly VITE_RELEASE?: string;
}
