import * as vscode from 'vscode';
import type { OfferInfo, ServerInfo } from '../api/port.js';
import type { Connection } from './connection.js';

/** GPUs offered first; any other name can be typed. */
export const GPU_CHOICES = ['RTX 4090', 'RTX 5090', 'RTX 3090', 'RTX A6000', 'L40S', 'A100', 'H100'];
/** The regions the API knows (a two-letter country code works too). */
export const REGION_CHOICES = ['US-East', 'US-Central', 'US-West', 'US', 'North-America', 'EU-West', 'EU-Central', 'EU-North', 'EU-South', 'EU', 'Asia', 'Oceania', 'South-America'];
const ANY_REGION = 'Any region';
const OTHER_GPU = 'Another GPU…';

/** An offer as one line of the pick: price first, then what it has and where. */
export function describeOffer(o: OfferInfo): { label: string; description: string; detail: string } {
  const gpu = `${o.gpuCount && o.gpuCount > 1 ? `${o.gpuCount}× ` : ''}${o.gpu ?? 'GPU'}`;
  return {
    label: `$${o.pricePerHour}/h`,
    description: [gpu, o.ramGb !== undefined ? `${Math.round(o.ramGb)} GB RAM` : undefined, o.diskGb !== undefined ? `${Math.round(o.diskGb)} GB disk` : undefined].filter(Boolean).join(' · '),
    detail: [o.location ?? 'location unknown', o.reliability !== undefined ? `reliability ${Math.round(o.reliability * 100)}%` : undefined].filter(Boolean).join(' · '),
  };
}

/**
 * Rents a server from the Servers view: a GPU, a region, then one of the offers the API lists for them (its price
 * becomes the highest price accepted), then a name. Resolves with the new server, undefined when abandoned.
 */
export async function createServer(connection: Connection): Promise<ServerInfo | undefined> {
  const title = 'Comfy-Vast: Create Server';
  try {
    const api = await connection.api();
    let gpu = await vscode.window.showQuickPick([...GPU_CHOICES, OTHER_GPU], { title, placeHolder: 'The GPU to rent' });
    if (gpu === OTHER_GPU) gpu = (await vscode.window.showInputBox({ title, prompt: 'GPU name as Vast.ai spells it', placeHolder: 'RTX 4080', validateInput: (v) => (v.trim() ? undefined : 'Enter a GPU name') }))?.trim();
    if (!gpu) return undefined;
    const region = await vscode.window.showQuickPick([ANY_REGION, ...REGION_CHOICES], { title, placeHolder: 'Where the server should be' });
    if (!region) return undefined;
    const location = region === ANY_REGION ? undefined : region;
    const offers = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `Comfy-Vast: looking for ${gpu} offers` }, () => api.listOffers(gpu, location));
    if (offers.length === 0) {
      void vscode.window.showInformationMessage(`Comfy-Vast: no ${gpu} offers${location ? ` in ${location}` : ''} right now. Try another GPU or region.`);
      return undefined;
    }
    const offer = await vscode.window.showQuickPick(
      offers.map((o) => ({ ...describeOffer(o), offer: o })),
      { title, placeHolder: 'Offers, cheapest first: the price you pick is the most the server may cost per hour', matchOnDescription: true, matchOnDetail: true },
    );
    if (!offer) return undefined;
    const name = (await vscode.window.showInputBox({ title, prompt: 'A name for the server', value: gpu.toLowerCase().replace(/[^a-z0-9]+/g, '-'), validateInput: (v) => (v.trim() ? undefined : 'Enter a name') }))?.trim();
    if (!name) return undefined;
    const o = offer.offer;
    const server = await api.createServer({
      name,
      gpu: o.gpu ?? gpu,
      ...(o.gpuCount ? { gpuCount: o.gpuCount } : {}),
      ...(location ? { location } : {}),
      // The API writes prices rounded to the cent: the offer's own price is at most half a cent above it.
      maxPrice: Number(o.pricePerHour) + 0.005,
    });
    void vscode.window.showInformationMessage(`Comfy-Vast: creating "${server.name}" (${server.status}); the Servers view shows when it runs.`);
    return server;
  } catch (error) {
    await connection.report(error, 'Comfy-Vast: could not create the server');
    return undefined;
  }
}
