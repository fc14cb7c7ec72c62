using ImOrleans.ImCtl;

// imctl: the operator's command line for the internal gRPC API (docs/imctl.md).
return await Cli.RunAsync(args);
