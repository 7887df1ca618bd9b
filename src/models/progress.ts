/** Progress reporting shared by download, conversion and installation. */

/** One progress report. */
export interface Progress {
  /** What is being done. */
  stage: "download" | "convert" | "quantize";
  /** Bytes done so far. */
  done: number;
  /** Bytes in total, when known. */
  total: number | undefined;
}

/** Receives {@linkcode Progress} reports; must not throw. */
export type ProgressCallback = (progress: Progress) => void;
