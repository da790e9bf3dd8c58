import ArgumentParser

/// The `ferry` command: moves a legacy EHR into a FHIR R4 store and proves nothing was lost.
@main
struct Ferry: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ferry",
        abstract: "Migrates legacy health records into a FHIR R4 store and proves that nothing was lost.",
        subcommands: [
            Demo.self, Synth.self, Discover.self, Map.self, Validate.self, FHIRPath.self, HL7.self, StoreCommand.self,
            Migrate.self, Reconcile.self, Link.self,
        ]
    )
}
