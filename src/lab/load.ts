import { loadFabricFile } from '../apply/index.js';
import { type AddressPlan, planAddresses } from './addresses.js';
import { checkLabAgainstFabric, type LoadedLab, loadLabFile } from './lab-file.js';

/** The lab file, checked against its fabric file, with its address plan. */
export async function loadLab(labFile: string): Promise<{ lab: LoadedLab; addresses: AddressPlan }> {
  const lab = await loadLabFile(labFile);
  const fabric = await loadFabricFile(lab.fabricFile);
  const mismatch = checkLabAgainstFabric(lab.spec, fabric.spec);
  if (mismatch.length > 0) throw lab.problemError(mismatch);
  const planned = planAddresses(lab.spec);
  if (!planned.ok) throw lab.problemError(planned.problems);
  return { lab, addresses: planned.plan };
}
