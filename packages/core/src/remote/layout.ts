/**
 * Where ComfyUI lives on a server, as the `vastai/comfy` image lays it out: the checkout under `/workspace`, the
 * image's venv, and the internal port that the image's password-protected proxy forwards 8188 to.
 */
export interface RemoteLayout {
  /** The ComfyUI checkout; its `models/` folder holds every model. */
  comfyDir: string;
  /** The Python environment ComfyUI runs in. */
  venv: string;
  /** Where ComfyUI listens on the server itself (127.0.0.1). */
  port: number;
  /** The git repository a setup clones when the checkout is missing, and the ref it checks out (default branch when null). */
  repo: string;
  ref: string | null;
}

export const DEFAULT_REMOTE_LAYOUT: RemoteLayout = {
  comfyDir: '/workspace/ComfyUI',
  venv: '/venv/main',
  port: 18188,
  repo: 'https://github.com/comfyanonymous/ComfyUI',
  ref: null,
};

/** The models folder of a layout: `<comfyDir>/models`. */
export function modelsDirOf(layout: RemoteLayout): string {
  return `${layout.comfyDir.replace(/\/+$/, '')}/models`;
}
