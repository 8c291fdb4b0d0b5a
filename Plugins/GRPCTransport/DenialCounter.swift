import GRPCCore
import JacoKernel

/// Counts every call that ends in a Jaco error, by its stable code, into the kernel's
/// `jaco_denials_total`.
struct DenialCounter: ServerInterceptor {
    let metrics: KernelMetrics

    func intercept<Input: Sendable, Output: Sendable>(
        request: StreamingServerRequest<Input>, context: ServerContext,
        next: @Sendable (StreamingServerRequest<Input>, ServerContext) async throws -> StreamingServerResponse<Output>
    ) async throws -> StreamingServerResponse<Output> {
        do {
            return try await next(request, context)
        } catch let error as RPCError {
            if let code = error.metadata[stringValues: errorCodeKey].first(where: { _ in true }) {
                metrics.countDenial(JacoError.Code(code))
            }
            throw error
        }
    }
}
