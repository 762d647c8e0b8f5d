"""Attacks on federated learning, from the server's seat (notebook 06).

* :mod:`.client` -- what a client sends: the gradient of its private batch (FedSGD), its
  weight change after local steps (FedAvg), or a clipped and noised gradient (DP at the client);
* :mod:`.gradient_inversion` -- an honest-but-curious server reconstructs the images from that
  gradient: iDLG's label read-out, Deep Leakage from Gradients and Inverting Gradients;
* :mod:`.trap_weights` -- a malicious server's trap weights (Boenisch et al. 2023) and the
  read-out that takes images off the gradient of its first layer exactly;
* :mod:`.metrics` -- how close a reconstruction is: PSNR, one-to-one matching to the originals;
* :mod:`.simulation` -- many rounds of FedSGD on one machine, with or without DP at the
  client: what the defence costs the model.
"""
